// Imported first by main.ts, before anything loads ssh2: what the agent leaves out to stay small
// (issue 11, docs/benchmarks.md "Edge agent memory"). Side effects only.
import { installSsh2StandIns } from './tunnel/ssh2-stand-ins.js';

installSsh2StandIns();
