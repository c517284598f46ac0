import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { writePerTick } from './write-per-tick.ts';

function recordingSocket(writeResult = true) {
  const calls: string[] = [];
  const socket = {
    cork: () => calls.push('cork'),
    uncork: () => calls.push('uncork'),
    write: (bytes: Uint8Array) => {
      calls.push(`write ${bytes[0]}`);
      return writeResult;
    },
  } as unknown as Socket;
  return { socket, calls };
}

const tick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('writePerTick', () => {
  it('puts every write of one tick between one cork and one uncork, in order', async () => {
    const { socket, calls } = recordingSocket();
    const write = writePerTick(socket);
    write(Uint8Array.of(1));
    write(Uint8Array.of(2));
    write(Uint8Array.of(3));
    expect(calls).toEqual(['cork', 'write 1', 'write 2', 'write 3']);
    await tick();
    expect(calls).toEqual(['cork', 'write 1', 'write 2', 'write 3', 'uncork']);
  });

  it('corks again for writes in a later tick', async () => {
    const { socket, calls } = recordingSocket();
    const write = writePerTick(socket);
    write(Uint8Array.of(1));
    await tick();
    write(Uint8Array.of(2));
    await tick();
    expect(calls).toEqual(['cork', 'write 1', 'uncork', 'cork', 'write 2', 'uncork']);
  });

  it("returns the socket's backpressure signal", () => {
    const { socket } = recordingSocket(false);
    expect(writePerTick(socket)(Uint8Array.of(1))).toBe(false);
  });
});
