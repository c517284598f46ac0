/** The development model server: an OpenAI-compatible, deterministic, extractive stand-in. */
export {
  devChatModel,
  devEmbeddingModel,
  devModelHeader,
  devToolLoopModel,
  startDevModelServer,
  type DevModelServer,
  type DevModelServerOptions,
} from './dev-model-server.ts';
export { DevModelConfigError, type DevModelErrorCode } from './errors.ts';
export { hashedEmbedding, defaultEmbeddingDimensions } from './hashed-embedding.ts';
export type { RequestLogEntry } from './request-log.ts';
