/**
 * Input ha-check cannot judge (missing file, malformed JSON/YAML, a plan of another
 * provider). The CLI prints the message alone and exits 2: bad input is not a verdict.
 */
export class HaCheckInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HaCheckInputError';
  }
}
