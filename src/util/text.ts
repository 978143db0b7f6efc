/** The first line of a message (Azure and Kubernetes put details, trace ids and stacks on the lines after). */
export function firstLine(s: unknown, separator: RegExp | string = /\r?\n/): string {
  return String(s).split(separator)[0] ?? '';
}
