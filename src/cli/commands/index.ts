import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerVersionCommand } from './version.js';

/**
 * Every command group, one file each. Keep registration cheap: command files import their services
 * lazily inside actions, so start-up parses only what the invoked command needs.
 */
export const COMMAND_GROUPS: Array<(program: Command, ctx: CliContext) => void> = [
  registerVersionCommand,
];
