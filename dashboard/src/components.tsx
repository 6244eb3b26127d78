// Small shared pieces: loading and error states, the temperature badge, async data.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { TEMPERATURE_BADGE } from "./format";
import type { Temperature } from "./types";

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div class="error" role="alert">
      <p>{error instanceof Error ? error.message : String(error)}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function TemperatureBadge({ temperature }: { temperature: Temperature | null }) {
  if (!temperature) return <span class="badge badge-none">unscored</span>;
  const badge = TEMPERATURE_BADGE[temperature];
  return (
    <span class={`badge badge-${temperature}`} data-temperature={temperature}>
      <span aria-hidden="true">{badge.icon}</span> {badge.label}
    </span>
  );
}

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
  set: (value: T) => void;
}

/** Data loaded by `load` whenever `deps` change; a stale answer never replaces a newer one. */
export function useResource<T>(load: () => Promise<T>, deps: unknown[]): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const sequence = useRef(0);
  const loader = useRef(load);
  loader.current = load;
  const reload = useCallback(async () => {
    const mine = ++sequence.current;
    setLoading(true);
    try {
      const value = await loader.current();
      if (mine !== sequence.current) return;
      setData(value);
      setError(null);
    } catch (caught) {
      if (mine !== sequence.current) return;
      setError(caught);
    } finally {
      if (mine === sequence.current) setLoading(false);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, deps);
  return { data, error, loading, reload, set: setData };
}

/** Call `tick` every `seconds` while the page is visible. */
export function usePolling(tick: () => void, seconds: number): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") latest.current();
    }, seconds * 1000);
    return () => window.clearInterval(timer);
  }, [seconds]);
}

export interface Action<A extends unknown[]> {
  run: (...args: A) => Promise<boolean>;
  busy: boolean;
  error: unknown;
  clear: () => void;
}

/** A change the user asked for (a save, an upload): busy while it runs, its error kept to show
 * next to the form; `run` answers whether it succeeded. */
export function useAction<A extends unknown[]>(act: (...args: A) => Promise<void>): Action<A> {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const latest = useRef(act);
  latest.current = act;
  const run = useCallback(async (...args: A) => {
    setBusy(true);
    setError(null);
    try {
      await latest.current(...args);
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, busy, error, clear: () => setError(null) };
}
