/** Errors of the local development stack (`cloister up`, `npm run demo`). */
import { CloisterError } from '../../protocol/cloister-error.ts';

export type StackErrorCode = 'ERR_STACK_CHILD_NOT_READY' | 'ERR_STACK_ALREADY_RUNNING' | 'ERR_STACK_SOCKET_PATH_TOO_LONG' | 'ERR_STACK_SETUP_FAILED' | 'ERR_STACK_MODEL_PORT_IN_USE';

export class StackError extends CloisterError<StackErrorCode> {}

export class ChildNotReadyError extends StackError {
  constructor({ name, reason }: { name: string; reason: string }) {
    super('ERR_STACK_CHILD_NOT_READY', `the ${name} process did not become ready: ${reason}`, { category: 'transient' });
  }
}

export class StackAlreadyRunningError extends StackError {
  constructor() {
    super('ERR_STACK_ALREADY_RUNNING', 'another stack is already serving from this data directory', { category: 'configuration' });
  }
}

export class SocketPathTooLongError extends StackError {
  constructor({ length }: { length: number }) {
    super('ERR_STACK_SOCKET_PATH_TOO_LONG', `a socket path under the data directory is ${length} bytes; Unix sockets allow 107: choose a shorter --data-dir`, {
      category: 'configuration',
    });
  }
}

export class StackSetupError extends StackError {
  constructor({ step, reason }: { step: string; reason: string }) {
    super('ERR_STACK_SETUP_FAILED', `setting up the stack's workflows failed at '${step}': ${reason}`, { category: 'configuration' });
  }
}

export class ModelPortInUseError extends StackError {
  constructor({ port }: { port: number }) {
    super('ERR_STACK_MODEL_PORT_IN_USE', `port ${port}, given for the dev model server, is in use: free it or choose another --model-port`, { category: 'configuration' });
  }
}
