// Test helper, not a test: assert the kind of a SaslStep and get it back narrowed.
import assert from 'node:assert/strict';
import type { SaslFailureCondition, SaslStep } from '@parley/sasl';

export function challenge(step: SaslStep): string {
  assert.equal(step.kind, 'challenge', `expected a challenge, got ${JSON.stringify(step)}`);
  return (step as Extract<SaslStep, { kind: 'challenge' }>).data.toString('utf8');
}

export function success(step: SaslStep): Extract<SaslStep, { kind: 'success' }> {
  assert.equal(step.kind, 'success', `expected success, got ${JSON.stringify(step)}`);
  return step as Extract<SaslStep, { kind: 'success' }>;
}

export function failure(step: SaslStep, condition: SaslFailureCondition): Extract<SaslStep, { kind: 'failure' }> {
  assert.deepEqual(step.kind === 'failure' ? step.condition : step, condition);
  return step as Extract<SaslStep, { kind: 'failure' }>;
}
