/**
 * Writes Prometheus text exposition, one family at a time, and refuses what the format forbids:
 * a family written twice, or two samples of a family with the same label set. Prometheus keeps
 * the first of such samples and drops the other as `sample_duplicate_timestamp` (PM2 retest N4:
 * a reload's old worker and its replacement both wrote `{slot="0"}`), so a duplicate is a bug in
 * the writer's caller, thrown before the scrape can publish it.
 */
import { InvalidStateError } from '../../errors.js';

export type Labels = ReadonlyArray<readonly [name: string, value: string]>;

export class ExpositionWriter {
  readonly #lines: string[] = [];
  readonly #families = new Set<string>();
  readonly #series = new Set<string>();
  #family: string | undefined;

  /** Starts family `name`; its samples follow. */
  family(name: string, type: 'gauge' | 'counter', help: string): this {
    if (this.#families.has(name)) throw new InvalidStateError(`The metrics family ${name} was written twice in one exposition; Prometheus expects each family once. This is a clusterkit bug: please report it.`);
    this.#families.add(name);
    this.#series.clear();
    this.#family = name;
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    return this;
  }

  /** One sample of the current family. */
  sample(labels: Labels, value: number): this {
    const name = this.#family;
    if (name === undefined) throw new InvalidStateError('A metrics sample was written before its family; call family() first. This is a clusterkit bug: please report it.');
    const set = labels.length === 0 ? '' : `{${labels.map(([label, text]) => `${label}="${escapeLabel(text)}"`).join(',')}}`;
    if (this.#series.has(set)) {
      throw new InvalidStateError(`The series ${name}${set} was written twice in one exposition (invalid: Prometheus drops the second as a duplicate). This is a clusterkit bug: please report it.`);
    }
    this.#series.add(set);
    this.#lines.push(`${name}${set} ${prometheusNumber(value)}`);
    return this;
  }

  /** A family of one sample without labels. */
  single(name: string, type: 'gauge' | 'counter', help: string, value: number): this {
    return this.family(name, type, help).sample([], value);
  }

  /** The families written so far: what worker registries may not reuse. */
  get families(): ReadonlySet<string> {
    return this.#families;
  }

  text(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}

/** Prometheus writes infinity as `+Inf` (a budget of `Infinity`), `-Inf` and `NaN`. */
function prometheusNumber(value: number): string {
  return value === Number.POSITIVE_INFINITY ? '+Inf' : value === Number.NEGATIVE_INFINITY ? '-Inf' : String(value);
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}
