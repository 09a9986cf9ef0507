import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerVersionCommand } from './version.js';
import { registerServeCommand } from './serve.js';
import { registerRegistryCommands, registerSearchCommand } from './registry.js';
import { registerConfigCommands } from './config.js';
import { registerSecretCommands } from './secret.js';
import { registerWorkloadCommands } from './workloads.js';
import { registerClientCommands } from './client.js';
import { registerRuntimeCommands } from './runtime.js';
import { registerGroupCommands } from './groups.js';

/**
 * Every command group, one file each. Keep registration cheap: command files import their services
 * lazily inside actions, so start-up parses only what the invoked command needs.
 */
export const COMMAND_GROUPS: Array<(program: Command, ctx: CliContext) => void> = [
  registerVersionCommand,
  registerServeCommand,
  registerRegistryCommands,
  registerSearchCommand,
  registerConfigCommands,
  registerSecretCommands,
  registerWorkloadCommands,
  registerClientCommands,
  registerRuntimeCommands,
  registerGroupCommands,
];
