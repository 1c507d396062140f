import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1: bind port 0, read what the kernel chose, release it. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from the kernel'))));
    });
  });
}

/**
 * A command prefix that makes the kernel send `signal` to the command when this process dies
 * (util-linux setpriv --pdeathsig), so no child outlives the runner, even one killed by
 * SIGKILL; empty where setpriv is missing.
 */
export function dieWithParent(signal: 'KILL' | 'TERM'): string[] {
  return existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', signal] : [];
}

/** moto in server mode on loopback; `stop()` is safe to call more than once. */
export class MotoServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly endpoint: string,
    readonly logFile: string,
  ) {}

  static async start(binDir: string, logDir: string): Promise<MotoServer> {
    const port = await freeLoopbackPort();
    const logFile = join(logDir, 'moto.log');
    const log = openSync(logFile, 'w');
    // AWS managed policies (the FIS role attaches one) exist in moto only when loaded.
    // setpriv --pdeathsig: the kernel kills moto when this process dies, even by SIGKILL.
    const server = [join(binDir, 'moto_server'), '-H', '127.0.0.1', '-p', String(port)];
    const command = [...dieWithParent('KILL'), ...server];
    const child = spawn(command[0], command.slice(1), {
      env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' },
      stdio: ['ignore', log, log],
    });
    const moto = new MotoServer(child, `http://127.0.0.1:${port}`, logFile);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode} before it answered; see ${logFile}`);
      try {
        if ((await fetch(`${moto.endpoint}/moto-api/`)).ok) return moto;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        moto.stop();
        throw new Error(`moto_server did not answer on ${moto.endpoint} within 60 s; see ${logFile}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Peak resident memory of the server so far (VmHWM), in MiB. */
  peakMiB(): number | undefined {
    try {
      const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'))?.[1];
      return kb ? Math.round(Number(kb) / 1024) : undefined;
    } catch {
      return undefined;
    }
  }

  /** SIGTERM, then SIGKILL if it is still there a moment later; synchronous so exit handlers can call it. */
  stop(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    this.child.kill('SIGTERM');
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      try {
        // Exited but not yet reaped (a zombie) counts as gone.
        if (/State:\s+Z/.test(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'))) return;
      } catch {
        return;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
    this.child.kill('SIGKILL');
  }
}
