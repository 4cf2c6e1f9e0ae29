import { DistilleryError } from '../errors.js';

/** Stable codes a ConfigError carries; the CLI maps them to exit statuses and docs. */
export type ConfigErrorCode = 'E_CONFIG' | 'E_FILE_NOT_FOUND';

/** A configuration problem the user can fix: a bad key, value, flag or config file. */
export class ConfigError extends DistilleryError {
  override readonly name = 'ConfigError';
  declare readonly code: ConfigErrorCode;
  /** One line per problem, each naming the offending key, flag or file. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], code: ConfigErrorCode = 'E_CONFIG') {
    super(
      problems.length === 1
        ? (problems[0] ?? '')
        : `${problems.length} configuration problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      code,
    );
    this.problems = problems;
  }
}
