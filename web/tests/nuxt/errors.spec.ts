import { describe, expect, it } from 'vitest'
import { CombinedError } from '@urql/core'
import { GraphQLError } from 'graphql'
import { errorsByField, toUiErrors } from '~/utils/errors'

describe('toUiErrors', () => {
  it('reads extensions.code, field and retryAfterSeconds', () => {
    const err = new CombinedError({
      graphQLErrors: [
        new GraphQLError('is 6000 characters long', { extensions: { code: 'BAD_USER_INPUT', field: 'input.text' } }),
        new GraphQLError('slow down', { extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 5 } }),
        new GraphQLError('boom'),
      ],
    })
    expect(toUiErrors(err)).toEqual([
      { code: 'BAD_USER_INPUT', field: 'input.text', message: 'is 6000 characters long' },
      { code: 'RATE_LIMITED', message: 'slow down', retryAfterSeconds: 5 },
      { code: 'INTERNAL_SERVER_ERROR', message: 'boom' },
    ])
  })
  it('turns a network failure into NETWORK_ERROR', () => {
    expect(toUiErrors(new CombinedError({ networkError: new Error('offline') }))[0]!.code).toBe('NETWORK_ERROR')
    expect(toUiErrors(undefined)).toEqual([])
  })
  it('groups by form field', () => {
    const grouped = errorsByField(
      [{ code: 'BAD_USER_INPUT', field: 'input.text', message: 'x' }, { code: 'RATE_LIMITED', message: 'y' }],
      (e) => e.field?.replace('input.', ''),
    )
    expect(Object.keys(grouped).sort()).toEqual(['', 'text'])
  })
})
