import { ZferryError } from '../../platform/errors.js';

/**
 * A keep rule that cannot be used: a grid spec that does not read, a count that is not a
 * positive whole number, a regex JavaScript cannot compile, a key no rule takes. `where` names
 * the rule in the config (`keep_sender[1]`) so the message points at the line to fix.
 */
export class PruningRuleError extends ZferryError {
  declare readonly code: 'PRUNING_RULE';
  readonly where: string;

  constructor(where: string, problem: string) {
    super('PRUNING_RULE', `${where}: ${problem}`);
    this.where = where;
  }
}
