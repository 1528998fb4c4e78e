// The demo's agent-loop step: acme's `chat` is asked for a chart; its model calls the `bar-chart`
// tool (which acme's agent serves itself, and which borrows `image-render` from the lane through
// the hive), then answers. Prints the question, each tool step, who rendered, the answer, and writes
// the PNG the chat's output carries as an artifact. In: the hive URL, acme's token, the demo dir.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pngSize } from '../../src/skills/loop/binary.ts';
import { EXIT, HostError } from '../exit-codes.ts';
import { type LiveAgent, runTask, type TaskView } from './agents.ts';
import { DEMO_LANE, DEMO_TENANT } from './fixtures.ts';
import { type Progress, seconds } from './progress.ts';

export const CHART_PROMPT = "Chart last week's tasks per agent: acme 7, globex 4, initech 9, umbrella 5.";

interface LoopOutput {
  text?: string;
  message?: string;
  steps?: { tool: string; status: string; ms: number; ran: string }[];
  artifacts?: { tool: string; mediaType: string; base64: string }[];
}

export const oneLine = (s: string, max = 100): string => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

export interface ChartRun {
  hiveUrl: string;
  token: string;
  dir: string;
  /** The demo dir as shown to the user. */
  shown: string;
  live: Map<string, LiveAgent>;
  signal: AbortSignal;
  /** The offline fake always draws; a real model may choose not to, which is not a failure. */
  requirePng: boolean;
}

export async function chartByChat(p: Progress, run: ChartRun): Promise<void> {
  const view: TaskView = await p.step(
    'chat task',
    () => runTask(run.hiveUrl, run.token, 'chat', { message: CHART_PROMPT }, run.signal),
    (v) => {
      const steps = (v.result?.output as LoopOutput | undefined)?.steps ?? [];
      return `${v.state}, answered by ${DEMO_TENANT}'s agent ${run.live.get(DEMO_TENANT)?.agentId ?? ''} after ${steps.length} tool step(s)`;
    },
  );
  const out = (view.result?.output ?? {}) as LoopOutput;
  p.line(`           ${DEMO_TENANT} asked: ${CHART_PROMPT}`);
  // Which agent rendered: acme has no renderer; the lane's own log shows it did the rendering.
  const laneLog = await readFile(join(run.dir, 'logs', `${DEMO_LANE}.log`), 'utf8').catch(() => '');
  const renderer = /"skill":"image-render"/.test(laneLog)
    ? `${DEMO_LANE}'s agent ${run.live.get(DEMO_LANE)?.agentId ?? ''}`
    : null;
  for (const [i, step] of (out.steps ?? []).entries()) {
    const where =
      step.ran === 'here' ? `${DEMO_TENANT}'s own agent` : step.ran === 'hive' ? 'the hive' : 'nowhere';
    const borrowed =
      step.tool === 'bar-chart' && renderer ? `; it borrowed image-render, rendered by ${renderer}` : '';
    p.line(
      `           tool step ${i + 1}: ${step.tool} ran in ${where}, ${step.status}, ${seconds(step.ms)}${borrowed}`,
    );
  }
  p.line(`           the agent: ${oneLine(out.text ?? out.message ?? JSON.stringify(out), 160)}`);
  if (view.state !== 'succeeded') throw new HostError('the chat task did not succeed', EXIT.failure);

  const png = out.artifacts?.find((a) => a.mediaType === 'image/png');
  const bytes = png ? Buffer.from(png.base64, 'base64') : Buffer.alloc(0);
  const size = pngSize(bytes);
  if (!size) {
    if (run.requirePng)
      throw new HostError('the chat answered without a chart (no PNG artifact)', EXIT.failure);
    p.line('           (the model answered without drawing a chart)');
    return;
  }
  await writeFile(join(run.dir, 'chart.png'), bytes);
  p.line(
    `           PNG ${size.width}×${size.height}, ${bytes.length} bytes → ${join(run.shown, 'chart.png')}`,
  );
}
