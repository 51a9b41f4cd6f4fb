#!/usr/bin/env node
// The node agent as its own program (what `stratus agent` runs, without the rest of the CLI), so
// scripts/build-agent.ts can bundle it small as dist/agent/stratus-agent.
import { agentCommand } from './agent-command.js';

await agentCommand('stratus-agent').parseAsync(process.argv);
