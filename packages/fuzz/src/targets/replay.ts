/**
 * Replaying a recorded {@link Case} (a regression vector or a crash file) with every
 * victim-side check.
 */
import { commandFromJson, fromHex, type Case } from './case.ts';
import { runFrames } from './frames.ts';
import { runHead } from './head.ts';
import { Victim } from './victim.ts';

/**
 * Replay a recorded case with every victim-side check. Throws on a failure; returns the outcome
 * (head: `ok` or the error code; frames: `ok` or the error code; connection: the protocol-error
 * code or `none`), which a hand-made vector may pin with `expect`.
 */
export function runCase(c: Case): string {
  switch (c.target) {
    case 'head': {
      const outcome = runHead(c.kind, c.limits, c.chunks.map(fromHex), c.key ?? '', c.protocols ?? []);
      return outcome.startsWith('ok') ? 'ok' : outcome.split(' ')[1]!;
    }
    case 'frames': {
      const outcome = runFrames(c.expectMasked, c.maxFrameSize, c.allowedRsv, c.chunks.map(fromHex));
      const end = outcome.slice(outcome.lastIndexOf('|') + 1);
      return end.startsWith('fail') ? end.split(' ')[1]! : 'ok';
    }
    case 'connection': {
      const victim = new Victim(c.options, false);
      for (const step of c.steps) {
        if (step.op === 'data') victim.data(fromHex(step.hex));
        else if (step.op === 'eof') victim.receiveEof();
        else if (step.op === 'tick') victim.tick(step.at);
        else victim.send(commandFromJson(step.command));
      }
      victim.finish();
      return victim.errorCode ?? 'none';
    }
  }
}
