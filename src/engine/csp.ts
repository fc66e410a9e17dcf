// Content-Security-Policy violations, reported as such. A page's (or worker's)
// policy that blocks the runtime's `blob:` import or its WebAssembly compile
// surfaces in the engines as "no available backend" or a failed fetch; the
// browser's `securitypolicyviolation` events say what really happened. A load
// is watched, and when it fails after a violation the error names the
// directive and the source to add.
import { DeviceError } from '../errors';

/** What the browser reported (the fields of a SecurityPolicyViolationEvent that Mneme uses). */
export interface PolicyViolation {
  /** The directive, as the policy writes it, that refused, e.g. 'script-src' (the browser reports 'script-src-elem' when the policy only has script-src). */
  directive: string;
  /** What was refused: a URL, or the browser's keyword ('blob', 'wasm-eval', 'eval', 'inline'). */
  blocked: string;
}

/** Each directive's fallbacks (CSP Level 3), most specific first. */
const FALLBACKS: Record<string, readonly string[]> = {
  'script-src-elem': ['script-src-elem', 'script-src', 'default-src'],
  'script-src-attr': ['script-src-attr', 'script-src', 'default-src'],
  'worker-src': ['worker-src', 'child-src', 'script-src', 'default-src'],
  'style-src-elem': ['style-src-elem', 'style-src', 'default-src'],
};

/** The directive in `policy` that governed `effective`: the one to change. */
export function writtenDirective(effective: string, policy: string): string {
  const written = new Set(policy.split(';').map((d) => d.trim().split(/\s+/)[0]!.toLowerCase()));
  return (FALLBACKS[effective] ?? [effective, 'default-src']).find((d) => written.has(d)) ?? effective;
}

/** The additions, to the directive named, that let the blocked thing through. */
function sourceToAdd(violation: PolicyViolation): string {
  const { blocked } = violation;
  if (blocked === 'wasm-eval' || blocked === 'eval') return "'wasm-unsafe-eval'";
  if (blocked === 'blob' || blocked.startsWith('blob:')) return 'blob:';
  if (blocked === 'data' || blocked.startsWith('data:')) return 'data:';
  try {
    return new URL(blocked).origin;
  } catch {
    return `'${blocked}'`;
  }
}

/** The typed error for a load that failed after the policy refused something: it names each directive and what to add to it. */
export function policyError(what: string, violations: readonly PolicyViolation[], cause?: unknown): DeviceError {
  const fixes = new Map<string, Set<string>>();
  for (const v of violations) fixes.set(v.directive, (fixes.get(v.directive) ?? new Set()).add(sourceToAdd(v)));
  const named = [...fixes].map(([directive, add]) => `${directive} refused ${violations.filter((v) => v.directive === directive).map((v) => v.blocked).filter((b, i, all) => all.indexOf(b) === i).join(', ')}: add ${[...add].join(' ')} to ${directive}`);
  return new DeviceError(
    'csp-blocked',
    `The Content-Security-Policy blocked ${what}, not a missing file: ${named.join('; ')}. The on-device engine needs script-src 'self' 'wasm-unsafe-eval' blob: on the page and on Mneme's worker scripts`,
    ...(cause !== undefined ? [{ cause }] : []),
  );
}

/**
 * Records the policy violations in this global (page or worker) from now until `stop()`.
 * Where there are no such events (Node), it records nothing.
 */
export function watchPolicyViolations(): { readonly violations: readonly PolicyViolation[]; stop(): void } {
  const violations: PolicyViolation[] = [];
  const target = typeof self !== 'undefined' && typeof self.addEventListener === 'function' ? self : undefined;
  const listener = (event: Event) => {
    const e = event as SecurityPolicyViolationEvent;
    violations.push({ directive: writtenDirective(e.effectiveDirective || e.violatedDirective, e.originalPolicy), blocked: e.blockedURI });
  };
  target?.addEventListener('securitypolicyviolation', listener);
  return { violations, stop: () => target?.removeEventListener('securitypolicyviolation', listener) };
}

/** Runs `load`; if it fails after the policy refused something, the failure is the typed CSP error instead. */
export async function underPolicyWatch<T>(what: string, load: () => Promise<T>): Promise<T> {
  const watch = watchPolicyViolations();
  try {
    return await load();
  } catch (error) {
    // Violation events are queued as tasks: let any that belong to this failure arrive.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (watch.violations.length > 0) throw policyError(what, watch.violations, error);
    throw error;
  } finally {
    watch.stop();
  }
}
