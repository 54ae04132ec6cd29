import type { GenerationStatus } from '~/gql/graphql'

/** One event of generationUpdated, reduced to what the progress bar shows. */
export interface ProgressState {
  status: GenerationStatus
  progress: number
  chunksDone: number
  chunksTotal: number
}

/** Which sentence describes the state: queued, chunks, encoding or finished. */
export type ProgressPhase = 'queued' | 'chunks' | 'encoding' | 'done' | 'failed' | 'canceled'

/** The phase of a generation from its latest event. */
export function phaseOf(s: ProgressState): ProgressPhase {
  switch (s.status) {
    case 'SUCCEEDED': return 'done'
    case 'FAILED': return 'failed'
    case 'CANCELED': return 'canceled'
    case 'QUEUED': return 'queued'
    default:
      if (s.chunksTotal === 0) return 'queued'
      return s.chunksDone >= s.chunksTotal ? 'encoding' : 'chunks'
  }
}

/** True when no more events will come. */
export function isTerminal(status: GenerationStatus): boolean {
  return status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELED'
}

/** Merges a new event into the state: progress never goes back (the server promises it; a late event must not either). */
export function mergeProgress(prev: ProgressState | null, next: ProgressState): ProgressState {
  if (!prev) return next
  return { ...next, progress: Math.max(prev.progress, next.progress), chunksDone: Math.max(prev.chunksDone, next.chunksDone) }
}

/** The file name a download of a generation gets: koe-<date>-<id tail>.<ext>. */
export function fileNameOf(g: { id: string; format: string; createdAt: string }): string {
  const ext = g.format === 'OGG_OPUS' ? 'ogg' : g.format.toLowerCase()
  const day = g.createdAt.slice(0, 10)
  const tail = g.id.replace(/[^A-Za-z0-9]/g, '').slice(-6)
  return `koe-${day}-${tail}.${ext}`
}
