#!/usr/bin/env node
// Recording fake of `aws` / `kubectl`: appends its argv to $FAKE_LOG and answers from the
// first rule in $FAKE_RULES whose tool matches and whose regex matches the joined argv.
// A rule's responses are used in order; the last one repeats. No rule: exit 99.
import fs from 'node:fs';
import path from 'node:path';

const tool = path.basename(process.argv[1]);
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_LOG, `${JSON.stringify({ tool, args })}\n`);
const rules = JSON.parse(fs.readFileSync(process.env.FAKE_RULES, 'utf8'));
const joined = args.join(' ');
const index = rules.findIndex((r) => r.tool === tool && new RegExp(r.match).test(joined));
if (index < 0) {
  process.stderr.write(`fake ${tool}: no rule for: ${joined}\n`);
  process.exit(99);
}
const statePath = process.env.FAKE_STATE;
const state = fs.existsSync(statePath) ? JSON.parse(fs.readFileSync(statePath, 'utf8')) : {};
const used = state[index] ?? 0;
state[index] = used + 1;
fs.writeFileSync(statePath, JSON.stringify(state));
const responses = rules[index].responses;
const response = responses[Math.min(used, responses.length - 1)];
const out = response.stdout === undefined ? '' : typeof response.stdout === 'string' ? response.stdout : JSON.stringify(response.stdout);
process.stdout.write(out);
if (response.stderr) process.stderr.write(response.stderr);
process.exit(response.code ?? 0);
