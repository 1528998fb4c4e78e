// The skills TaskRunner (DESIGN §3, §7): discovers the skills under the root, keeps those that fit
// this OS and `.env`, registers their capabilities (plus the built-in `echo`) and runs each task by
// the skill that serves its capability — a model prompt or a script — after checking the input
// against the skill's input schema (a misfit is refused in one line naming the field, before anything
// runs). I/O: discovery at load time. What only a task needs (input validation, prompt and script
// execution, the providers and their HTTP client) is imported at the first task that needs it, not
// at boot: registration waits on nothing it uses.
import path from 'node:path';
import type { Logger } from '../log.ts';
import { MAX_CAPABILITIES, type TaskAssignment, type TaskResult } from '../protocol/index.ts';
import type { ChatProvider } from '../providers/openai-compatible.ts';
import type { ProviderTuning } from '../providers/select.ts';
import { describeCapabilities } from './descriptors.ts';
import { type Discovery, discoverSkills, formatDiscoveryProblem, type LoadedSkill } from './discover.ts';
import { type Gated, gateSkills } from './gating.ts';
import type { InputCheck } from './input-validator.ts';
import type { ScriptLimits } from './script.ts';
import { ECHO_CAPABILITY, type TaskContext, type TaskRunner } from './task-runner.ts';
import { skillTimeoutMs } from './time-budget.ts';

/** The agent's state dir relative to the root (DESIGN §4). */
export const STATE_DIR = 'var/db/clawdie';

export interface SkillRunnerOptions {
  root: string;
  /**
   * The current validated `.env` (a getter: the runner is built before the `.env` arrives and the
   * file may rotate). Decides which skills are active: their declared variables must be present.
   */
  env: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>> | undefined);
  os?: string;
  /** Defaults to `<root>/var/db/clawdie`; script working dirs go under `<stateDir>/work`. */
  stateDir?: string;
  /** Builds the LLM provider from the task's current `.env` (default: providerFromEnv). */
  provider?: (env: Readonly<Record<string, string>>) => ChatProvider;
  providerTuning?: ProviderTuning;
  scriptLimits?: Partial<ScriptLimits>;
  /** The resolved soul texts (identity.texts): prompt skills speak as this agent. */
  soul?: Readonly<Record<string, string>>;
  log?: Logger;
}

export interface SkillRunner extends TaskRunner {
  readonly discovery: Discovery;
  /** Gating against the current `.env` (recomputed on each call: cheap and pure). */
  gated(): Gated<LoadedSkill>;
}

export async function loadSkillRunner(options: SkillRunnerOptions): Promise<SkillRunner> {
  const discovery = await discoverSkills(options.root);
  const os = options.os ?? process.platform;
  const currentEnv = (): Readonly<Record<string, string>> =>
    (typeof options.env === 'function' ? options.env() : options.env) ?? {};
  const gate = (env: Readonly<Record<string, string>>): Gated<LoadedSkill> =>
    gateSkills(discovery.skills, { os, env });
  const log = options.log;
  for (const problem of discovery.problems) {
    log?.warn(
      { skillPath: problem.path, field: problem.field },
      `skill skipped: ${formatDiscoveryProblem(problem)}`,
    );
  }
  // Inactive reasons are logged once each (they name variables, never values).
  const told = new Set<string>();
  const capabilities = (): string[] => {
    const gated = gate(currentEnv());
    for (const { skill, reason } of gated.inactive) {
      const line = `${skill.name}: ${reason}`;
      if (told.has(line)) continue;
      told.add(line);
      log?.info({ skill: skill.name }, `skill inactive: ${reason}`);
    }
    if (gated.capabilities.length > MAX_CAPABILITIES) {
      // The hive refuses longer lists (DESIGN §5); keep echo and the first ones by name.
      log?.warn(
        { count: gated.capabilities.length },
        `more than ${MAX_CAPABILITIES} capabilities; extra ones ignored`,
      );
      const rest = gated.capabilities.filter((c) => c !== ECHO_CAPABILITY);
      return [ECHO_CAPABILITY, ...rest.slice(0, MAX_CAPABILITIES - 1)];
    }
    return [...gated.capabilities];
  };
  log?.info({ skills: discovery.skills.map((s) => `${s.name}<-${s.layer}`) }, 'skills discovered');

  const stateDir = options.stateDir ?? path.join(options.root, STATE_DIR);
  const defaultProvider = async (): Promise<(env: Readonly<Record<string, string>>) => ChatProvider> => {
    const { providerFromEnv } = await import('../providers/select.ts');
    return (env) => providerFromEnv(env, options.providerTuning);
  };

  // One compiled checker per skill with a schema, built at its first task (the validator is loaded then).
  const checks = new Map<LoadedSkill, InputCheck>();
  async function refusal(skill: LoadedSkill, task: TaskAssignment): Promise<TaskResult | null> {
    if (!skill.inputSchema) return null;
    const { compileInputValidator, formatInputProblem } = await import('./input-validator.ts');
    let check = checks.get(skill);
    if (!check) {
      check = compileInputValidator(skill.inputSchema);
      checks.set(skill, check);
    }
    const problem = check(task.input);
    if (!problem) return null;
    log?.info({ taskId: task.taskId, skill: skill.name, field: problem.field }, 'task input refused');
    const message = `skill ${skill.name} refused its input: ${formatInputProblem(problem)}`;
    return { status: 'error', output: { message, field: problem.field, retryable: false } };
  }

  async function run(task: TaskAssignment, context: TaskContext): Promise<TaskResult> {
    if (task.capability === ECHO_CAPABILITY) return { status: 'ok', output: task.input };
    // The task's own `.env` decides: a skill whose variables were removed by rotation stops serving.
    const skill = gate(context.env).routes.get(task.capability);
    if (!skill) {
      return { status: 'error', output: { message: `capability "${task.capability}" is not served here` } };
    }
    const refused = await refusal(skill, task);
    if (refused) return refused;
    log?.info({ taskId: task.taskId, skill: skill.name, runs: skill.extensions.runs }, 'running skill');
    if (skill.extensions.runs === 'script') {
      const { runScript } = await import('./script.ts');
      return runScript({
        skill,
        task,
        context,
        workRoot: path.join(stateDir, 'work'),
        ...(options.scriptLimits ? { limits: options.scriptLimits } : {}),
      });
    }
    const [{ runPrompt }, provider] = await Promise.all([
      import('./prompt.ts'),
      options.provider ?? defaultProvider(),
    ]);
    // A tool this agent serves itself runs here, as a task of its own with the same context.
    const local = {
      serves: (capability: string) =>
        capability === ECHO_CAPABILITY || gate(context.env).routes.has(capability),
      run: (sub: TaskAssignment, signal: AbortSignal) => run(sub, { ...context, signal }),
    };
    return runPrompt({
      skill,
      task,
      context,
      provider,
      local,
      log,
      ...(options.soul ? { soul: options.soul } : {}),
    });
  }

  const descriptors = (registered: readonly string[]) =>
    describeCapabilities(registered, gate(currentEnv()).routes);
  // Echo and an unserved capability are answered at once: no budget of their own.
  const timeoutMs = (task: TaskAssignment): number | undefined => {
    const skill = gate(currentEnv()).routes.get(task.capability);
    return skill ? skillTimeoutMs(skill.extensions, options.scriptLimits?.timeoutMs) : undefined;
  };
  return { discovery, gated: () => gate(currentEnv()), capabilities, descriptors, timeoutMs, run };
}
