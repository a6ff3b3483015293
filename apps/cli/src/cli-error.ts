/** An error the CLI prints as one line (no stack) before exiting with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Prints `value` as JSON or as the text from `render`. */
export function output(json: boolean, value: unknown, render: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${render()}\n`);
}
