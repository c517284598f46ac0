import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startChild } from './child-process.ts';
import { isolatedCommand, probeNetworkIsolation } from './network-isolation.ts';

const probe = probeNetworkIsolation();
if (probe.mode === 'none') console.warn(`skipping network isolation tests: ${probe.reason}`);

describe('isolatedCommand', () => {
  it('wraps the command in unshare -n for a network namespace', () => {
    expect(isolatedCommand('netns', 'node', ['a.js'])).toEqual(['unshare', ['-n', '--', 'node', 'a.js']]);
    expect(isolatedCommand('netns-user', 'node', ['a.js'])).toEqual(['unshare', ['-r', '-n', '--', 'node', 'a.js']]);
    expect(isolatedCommand('none', 'node', ['a.js'])).toEqual(['node', ['a.js']]);
  });
});

describe.skipIf(probe.mode === 'none')('a process started in its own network namespace', () => {
  it('cannot open a TCP connection to a listener outside it', async () => {
    let accepted = 0;
    const server = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const script = `const s=require('node:net').connect(${port},'127.0.0.1');s.on('connect',()=>{console.log('ready connected');process.exit(0)});s.on('error',e=>{console.log('ready '+e.code);process.exit(0)})`;
    const [command, args] = isolatedCommand(probe.mode, process.execPath, ['-e', script]);
    const child = startChild({ name: 'probe', command, args });
    const outcome = await child.ready;
    await child.exited;
    server.close();
    expect(outcome).not.toBe('connected');
    expect(['ENETUNREACH', 'ECONNREFUSED', 'EHOSTUNREACH']).toContain(outcome);
    expect(accepted).toBe(0);
  });
});

describe('startChild', () => {
  it('resolves ready with the address the child announces and relays its other lines', async () => {
    const lines: string[] = [];
    const child = startChild({
      name: 'echo',
      command: process.execPath,
      args: ['-e', "console.log('hello'); console.error('warn'); console.log('ready unix:/x.sock'); setInterval(()=>{}, 1000)"],
      onLine: (stream, line) => lines.push(`${stream}:${line}`),
    });
    expect(await child.ready).toBe('unix:/x.sock');
    const exit = await child.stop();
    expect(exit.signal).toBe('SIGTERM');
    expect(lines).toContain('stdout:hello');
    expect(lines).toContain('stderr:warn');
  });

  it('rejects ready when the child exits first', async () => {
    const child = startChild({ name: 'quitter', command: process.execPath, args: ['-e', 'process.exit(3)'] });
    await expect(child.ready).rejects.toMatchObject({ code: 'ERR_STACK_CHILD_NOT_READY', message: expect.stringMatching(/exited first \(code 3/) });
  });
});
