/**
 * Which machine shapes and zones run each confidential-computing technology on GKE: one table, read by
 * the `gke-confidential-nodes` policy and by `components/gke` (ConfidentialNodePool), so both refuse the
 * same pairings, for the same reason, before GKE refuses them minutes into `pulumi up`.
 *
 * The zones are the ones this table has checked against the sources below: correct, but conservative
 * (Google documents TDX in more zones than are listed here). A shape with no zone listed is supported by
 * GKE, but no zone of it has been checked here: name the zones you verified through the pack config
 * (`gke-confidential-nodes.additionalMachines`) or the component argument (`machineTable`).
 */

export type ConfidentialInstanceType = 'TDX' | 'SEV_SNP' | 'SEV';
export const CONFIDENTIAL_INSTANCE_TYPES: readonly ConfidentialInstanceType[] = ['TDX', 'SEV_SNP', 'SEV'];

export interface MachineShape {
  /**
   * A machine type pattern: lower-case letters, digits and dashes, where `*` stands for a number
   * (`c3-standard-*` matches `c3-standard-4`, not `c3-standard-4-lssd`).
   */
  machineType: string;
  /** Zones where GKE runs the technology on this shape (checked); empty: none checked yet. */
  zones: readonly string[];
  /** What the shape's entry rests on (a source and its date), shown when a machine or zone is refused. */
  note?: string;
}

/** A machine pattern GKE refuses for the technology, with why (named in the rejection). */
export interface RefusedShape {
  machineType: string;
  reason: string;
}

export interface TechnologyMachines {
  shapes: readonly MachineShape[];
  refused: readonly RefusedShape[];
  /** CPU platform GCE must schedule onto, when the technology needs one. */
  minCpuPlatform?: string;
}

export interface ConfidentialMachineTable {
  /** Where the table comes from. */
  source: string;
  /** When it was last checked against the source (YYYY-MM-DD). */
  checked: string;
  technologies: Readonly<Record<ConfidentialInstanceType, TechnologyMachines>>;
}

/** An addition to the table, from pack config or a component argument. */
export interface AdditionalMachine {
  technology: ConfidentialInstanceType;
  machineType: string;
  /** Zones you have verified run the technology on this shape. */
  zones: string[];
}

const CHECKED_ZONES = [
  'us-central1-a',
  'us-central1-b',
  'us-central1-c',
  'europe-west4-a',
  'europe-west4-b',
  'europe-west4-c',
  'asia-southeast1-a',
  'asia-southeast1-b',
  'asia-southeast1-c',
] as const;

export const CONFIDENTIAL_MACHINE_TABLE: ConfidentialMachineTable = {
  source:
    'GKE "Encrypt workload data in-use with Confidential GKE Nodes" (2026-04), Confidential VM "Supported configurations" (2026-04), GKE release notes 2026-09-03',
  checked: '2026-12-08',
  technologies: {
    TDX: {
      shapes: [
        { machineType: 'c3-standard-*', zones: CHECKED_ZONES },
        {
          machineType: 'c3-standard-*-lssd',
          zones: [],
          note: 'TDX on C3 with local SSD since the GKE release of 2026-09-03, in fewer zones than c3-standard-*',
        },
      ],
      refused: [
        { machineType: 'c3-highcpu-*', reason: 'GKE runs TDX only on the C3 standard shape' },
        { machineType: 'c3-highmem-*', reason: 'GKE runs TDX only on the C3 standard shape' },
        { machineType: 'c3-highcpu-*-lssd', reason: 'GKE runs TDX only on the C3 standard shape' },
        { machineType: 'c3-highmem-*-lssd', reason: 'GKE runs TDX only on the C3 standard shape' },
        { machineType: 'c3-standard-*-metal', reason: 'bare-metal C3 shapes are not Confidential VMs' },
        { machineType: 'c3-highcpu-*-metal', reason: 'bare-metal C3 shapes are not Confidential VMs' },
        { machineType: 'c3-highmem-*-metal', reason: 'bare-metal C3 shapes are not Confidential VMs' },
      ],
    },
    SEV_SNP: {
      shapes: [
        { machineType: 'n2d-standard-*', zones: CHECKED_ZONES },
        { machineType: 'n2d-highcpu-*', zones: CHECKED_ZONES },
        { machineType: 'n2d-highmem-*', zones: CHECKED_ZONES },
      ],
      refused: [
        ...['c2d', 'c3d'].flatMap((series) =>
          ['standard', 'highcpu', 'highmem'].map((shape) => ({
            machineType: `${series}-${shape}-*`,
            reason: `SEV-SNP runs on N2D (AMD Milan) only; ${series.toUpperCase()} runs SEV`,
          })),
        ),
        ...['standard', 'highcpu', 'highmem'].map((shape) => ({
          machineType: `c4d-${shape}-*`,
          reason: 'C4D runs SEV, not SEV-SNP',
        })),
      ],
      minCpuPlatform: 'AMD Milan',
    },
    SEV: {
      shapes: [
        { machineType: 'n2d-standard-*', zones: CHECKED_ZONES },
        { machineType: 'n2d-highcpu-*', zones: CHECKED_ZONES },
        { machineType: 'n2d-highmem-*', zones: CHECKED_ZONES },
        { machineType: 'c2d-standard-*', zones: [] },
        { machineType: 'c2d-highcpu-*', zones: [] },
        { machineType: 'c2d-highmem-*', zones: [] },
        { machineType: 'c3d-standard-*', zones: [] },
        { machineType: 'c3d-highcpu-*', zones: [] },
        { machineType: 'c3d-highmem-*', zones: [] },
        { machineType: 'c4d-standard-*', zones: [], note: 'SEV (not SEV-SNP) on C4D' },
        { machineType: 'c4d-highcpu-*', zones: [], note: 'SEV (not SEV-SNP) on C4D' },
        { machineType: 'c4d-highmem-*', zones: [], note: 'SEV (not SEV-SNP) on C4D' },
      ],
      refused: [],
    },
  },
};

/** The grammar of a machine type pattern (the pack config schema uses the same). */
export const MACHINE_PATTERN = '^[a-z][a-z0-9]*(-([a-z0-9]+|\\*))+$';
export const ZONE_PATTERN = '^[a-z]+-[a-z]+[0-9]+-[a-z]$';

/** `*` stands for a number; everything else is literal. */
export function machinePatternMatches(pattern: string, machineType: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[0-9]+');
  return new RegExp(`^${source}$`).test(machineType.toLowerCase());
}

/** The table with the additions merged in: a known shape gains zones, a new shape is added. */
export function extendMachineTable(
  base: ConfidentialMachineTable,
  additions: readonly AdditionalMachine[],
): ConfidentialMachineTable {
  if (additions.length === 0) return base;
  const technologies = Object.fromEntries(
    CONFIDENTIAL_INSTANCE_TYPES.map((t) => {
      const tech = base.technologies[t];
      const shapes = tech.shapes.map((s) => ({ ...s, zones: [...s.zones] }));
      for (const a of additions.filter((x) => x.technology === t)) {
        const pattern = a.machineType.toLowerCase();
        const known = shapes.find((s) => s.machineType === pattern);
        if (known) known.zones = [...new Set([...known.zones, ...a.zones])];
        else shapes.push({ machineType: pattern, zones: [...a.zones], note: 'added by configuration' });
      }
      return [t, { ...tech, shapes }];
    }),
  ) as unknown as Record<ConfidentialInstanceType, TechnologyMachines>;
  return { ...base, source: `${base.source}, plus configured additions`, technologies };
}

export type MachineVerdict = { ok: true; shape: MachineShape } | { ok: false; reason: string };

function tableRef(table: ConfidentialMachineTable): string {
  return `(machine table: ${table.source}; checked ${table.checked})`;
}

function shapeList(tech: TechnologyMachines): string {
  return tech.shapes.map((s) => s.machineType).join(', ');
}

/** Whether `machineType` can run `technology`, and if not, why, naming the table's source and date. */
export function machineVerdict(
  machineType: string,
  technology: ConfidentialInstanceType,
  table: ConfidentialMachineTable = CONFIDENTIAL_MACHINE_TABLE,
): MachineVerdict {
  const tech = table.technologies[technology];
  const shape = tech.shapes.find((s) => machinePatternMatches(s.machineType, machineType));
  if (shape) return { ok: true, shape };
  const refused = tech.refused.find((r) => machinePatternMatches(r.machineType, machineType));
  const why = refused
    ? `${refused.machineType} is refused: ${refused.reason}`
    : `it matches none of the shapes that run ${technology}`;
  return {
    ok: false,
    reason: `${machineType} cannot run ${technology}: ${why}; ${technology} runs on ${shapeList(tech)} ${tableRef(table)}`,
  };
}

/** Why `zone` does not offer the shape, or undefined when the table lists it. */
export function zoneProblem(
  zone: string,
  technology: ConfidentialInstanceType,
  shape: MachineShape,
  table: ConfidentialMachineTable = CONFIDENTIAL_MACHINE_TABLE,
): string | undefined {
  if (shape.zones.includes(zone)) return undefined;
  const listed =
    shape.zones.length === 0
      ? `no zone of ${shape.machineType} has been checked${shape.note ? ` (${shape.note})` : ''}; add the zones you verified to the machine table`
      : `expected one of ${shape.zones.join(', ')}`;
  return `zone ${zone} is not known to run ${technology} on ${shape.machineType}: ${listed} ${tableRef(table)}`;
}
