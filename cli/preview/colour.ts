const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof CODES;

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colourEnabled(stream: { isTTY?: boolean } = process.stdout): boolean {
  return stream.isTTY === true && !process.env['NO_COLOR'];
}

export function paint(colour: Colour, text: string, stream?: { isTTY?: boolean }): string {
  return colourEnabled(stream) ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
}
