/** The echo engine's arithmetic: questions with an operator are evaluated, nothing else is. */
import { describe, expect, it } from 'vitest';
import { evaluateArithmetic } from '../../src/router/engines/arithmetic.js';
import { echoAnswer } from '../../src/router/engines/echo.js';

describe('echo engine arithmetic', () => {
  it('evaluates simple questions', () => {
    expect(evaluateArithmetic('What is 2+2?')).toMatchObject({ spaced: '2 + 2', result: '4' });
    expect(evaluateArithmetic('What is 12*(3+4)?')).toMatchObject({ spaced: '12 * (3 + 4)', result: '84' });
    expect(evaluateArithmetic('What is -3*2?')).toMatchObject({ result: '-6' });
  });

  it('does not treat a hyphenated word or a lone signed number as a question', () => {
    expect(evaluateArithmetic('Quokka-Zephyr-8841 what is the airspeed of a swallow')).toBeUndefined();
    expect(evaluateArithmetic('What happened in -44?')).toBeUndefined();
    expect(evaluateArithmetic('Who wrote Hamlet in 1603?')).toBeUndefined();
    expect(echoAnswer('Order ref-1234, where is it?').final).toMatch(/^No model is loaded on this router/);
  });
});
