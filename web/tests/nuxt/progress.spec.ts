import { describe, expect, it } from 'vitest'
import { fileNameOf, isTerminal, mergeProgress, phaseOf } from '~/utils/progress'

describe('phaseOf', () => {
  it('follows a generation through its life', () => {
    expect(phaseOf({ status: 'QUEUED', progress: 0, chunksDone: 0, chunksTotal: 0 })).toBe('queued')
    expect(phaseOf({ status: 'RUNNING', progress: 0, chunksDone: 0, chunksTotal: 0 })).toBe('queued')
    expect(phaseOf({ status: 'RUNNING', progress: 0.25, chunksDone: 1, chunksTotal: 3 })).toBe('chunks')
    expect(phaseOf({ status: 'RUNNING', progress: 0.75, chunksDone: 3, chunksTotal: 3 })).toBe('encoding')
    expect(phaseOf({ status: 'SUCCEEDED', progress: 1, chunksDone: 3, chunksTotal: 3 })).toBe('done')
    expect(phaseOf({ status: 'FAILED', progress: 0.5, chunksDone: 1, chunksTotal: 3 })).toBe('failed')
  })
  it('knows the terminal states', () => {
    expect(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED'].map((s) => isTerminal(s as never))).toEqual([false, false, true, true, true])
  })
})

describe('mergeProgress', () => {
  it('never moves backwards', () => {
    const a = { status: 'RUNNING' as const, progress: 0.5, chunksDone: 2, chunksTotal: 3 }
    const late = { status: 'RUNNING' as const, progress: 0.25, chunksDone: 1, chunksTotal: 3 }
    expect(mergeProgress(a, late)).toEqual(a)
    expect(mergeProgress(null, late)).toEqual(late)
  })
})

describe('fileNameOf', () => {
  it('names downloads by day, id and format', () => {
    expect(fileNameOf({ id: 'R2VuZXJhdGlvbjoxMjM=', format: 'OGG_OPUS', createdAt: '2026-11-27T10:00:00Z' })).toBe('koe-2026-11-27-joxMjM.ogg')
    expect(fileNameOf({ id: 'abc', format: 'MP3', createdAt: '2026-01-02T00:00:00Z' })).toBe('koe-2026-01-02-abc.mp3')
  })
})
