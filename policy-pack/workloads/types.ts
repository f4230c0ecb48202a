/** Where a value sits in a resource's properties: keys and array indexes from the root. */
export type PropertyPath = (string | number)[];

/**
 * `imageVolume`: an OCI image mounted as a pod volume (`volumes[].image.reference`, Kubernetes 1.31+).
 * `imageProperty`: a property named `image` in a custom resource, outside any pod-spec container list
 * (Argo `templates[].script.image`, Tekton `steps[].image`, an operator's `spec.image`).
 */
export type ContainerKind =
  'container' | 'initContainer' | 'ephemeralContainer' | 'imageVolume' | 'imageProperty';

/** What was found where an image reference should be. */
export type ImageValue =
  | { state: 'known'; reference: string }
  /** Computed by another resource: only known at update. */
  | { state: 'unknown' }
  | { state: 'missing' }
  /** Present but not a non-empty string; `found` describes it. */
  | { state: 'invalid'; found: string };

/** One container's image reference in a workload. */
export interface ImageSite {
  /**
   * The container's (or image volume's) name, or `#<index>` when it has none. For an `imageProperty`, the
   * name of the object holding it or of its nearest named ancestor, else the holder's key.
   */
  container: string;
  kind: ContainerKind;
  /** Path of the image field (`spec.template.spec.containers[0].image`). */
  path: PropertyPath;
  image: ImageValue;
}

/** A part of the workload that could not be read, so its images cannot be listed. */
export interface ScanProblem {
  path: PropertyPath;
  state: 'unknown' | 'missing' | 'invalid';
  expected: string;
  found: string;
}

/** A pod spec (or Cloud Run template) with the labels that apply to its pods. */
export interface PodSpecSite {
  path: PropertyPath;
  spec: Record<string, unknown>;
  /** Labels of the pod template merged over the workload's own labels. */
  labels: Record<string, unknown>;
}

export interface WorkloadScan {
  family: 'kubernetes' | 'cloudrun';
  images: ImageSite[];
  problems: ScanProblem[];
  podSpecs: PodSpecSite[];
}
