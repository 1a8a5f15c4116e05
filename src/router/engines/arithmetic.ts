/**
 * A tiny, safe arithmetic evaluator for the echo engine ("What is 2+2?"): numbers, + - * / % ^,
 * parentheses and unary minus, by recursive descent (never eval).
 */

type Token = { kind: 'num'; value: number; text: string } | { kind: 'op'; value: string };

const OPERATOR_ALIASES: Record<string, string> = { '×': '*', x: '*', '÷': '/', '**': '^' };

function tokenize(expression: string): Token[] | undefined {
  const tokens: Token[] = [];
  const pattern = /\s*(\d+(?:\.\d+)?|\*\*|[-+*/%^()×÷x])/y;
  let index = 0;
  while (index < expression.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(expression);
    if (!match) {
      if (/^\s*$/.test(expression.slice(index))) break;
      return undefined;
    }
    const text = match[1] ?? '';
    index = pattern.lastIndex;
    if (/^\d/.test(text)) tokens.push({ kind: 'num', value: Number(text), text });
    else tokens.push({ kind: 'op', value: OPERATOR_ALIASES[text] ?? text });
  }
  return tokens;
}

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): number | undefined {
    const value = this.sum();
    return value !== undefined && this.position === this.tokens.length ? value : undefined;
  }

  private peekOp(): string | undefined {
    const token = this.tokens[this.position];
    return token?.kind === 'op' ? token.value : undefined;
  }

  private sum(): number | undefined {
    let left = this.product();
    while (left !== undefined && (this.peekOp() === '+' || this.peekOp() === '-')) {
      const op = this.peekOp();
      this.position += 1;
      const right = this.product();
      if (right === undefined) return undefined;
      left = op === '+' ? left + right : left - right;
    }
    return left;
  }

  private product(): number | undefined {
    let left = this.power();
    while (left !== undefined && ['*', '/', '%'].includes(this.peekOp() ?? '')) {
      const op = this.peekOp();
      this.position += 1;
      const right = this.power();
      if (right === undefined) return undefined;
      left = op === '*' ? left * right : op === '/' ? left / right : left % right;
    }
    return left;
  }

  private power(): number | undefined {
    const base = this.unary();
    if (base === undefined || this.peekOp() !== '^') return base;
    this.position += 1;
    const exponent = this.power();
    return exponent === undefined ? undefined : base ** exponent;
  }

  private unary(): number | undefined {
    if (this.peekOp() === '-') {
      this.position += 1;
      const value = this.unary();
      return value === undefined ? undefined : -value;
    }
    if (this.peekOp() === '+') {
      this.position += 1;
      return this.unary();
    }
    return this.atom();
  }

  private atom(): number | undefined {
    const token = this.tokens[this.position];
    if (!token) return undefined;
    if (token.kind === 'num') {
      this.position += 1;
      return token.value;
    }
    if (token.value === '(') {
      this.position += 1;
      const value = this.sum();
      if (this.peekOp() !== ')') return undefined;
      this.position += 1;
      return value;
    }
    return undefined;
  }
}

export interface Arithmetic {
  /** The expression as the user wrote it (trimmed). */
  readonly expression: string;
  /** The expression with spaces around binary operators: `2 + 2`. */
  readonly spaced: string;
  readonly result: string;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'undefined (division by zero)';
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value);
  return String(Number(value.toPrecision(12)));
}

/** Binary operators get a space on each side; unary signs and parentheses hug their operand. */
function spacedForm(tokens: Token[]): string {
  let out = '';
  let previous: Token | undefined;
  for (const token of tokens) {
    const binary =
      token.kind === 'op' &&
      token.value !== '(' &&
      token.value !== ')' &&
      previous !== undefined &&
      (previous.kind === 'num' || previous.value === ')');
    out += binary ? ` ${token.value} ` : token.kind === 'num' ? token.text : token.value;
    previous = token;
  }
  return out;
}

function hasBinaryOperator(tokens: Token[]): boolean {
  return tokens.some((token, index) => {
    const previous = tokens[index - 1];
    return (
      token.kind === 'op' &&
      token.value !== '(' &&
      token.value !== ')' &&
      previous !== undefined &&
      (previous.kind === 'num' || previous.value === ')')
    );
  });
}

/**
 * Finds a simple arithmetic question in `text` ("What is 2+2?", "compute (3+4)*5") and evaluates it.
 * Returns undefined when there is no expression with at least one operator.
 */
export function evaluateArithmetic(text: string): Arithmetic | undefined {
  const candidates = text.match(/[-+(]*\d[\d\s.+\-*/%^()×÷x]*/g) ?? [];
  const best = candidates
    .map((candidate) => candidate.trim().replace(/[\s.]+$/, ''))
    .sort((a, b) => b.length - a.length)[0];
  if (!best) return undefined;
  const tokens = tokenize(best);
  // A lone signed number ("-8841" in "Zephyr-8841") is not a question: ask for a binary operator.
  if (!tokens || !hasBinaryOperator(tokens)) return undefined;
  const value = new Parser(tokens).parse();
  if (value === undefined) return undefined;
  return { expression: best, spaced: spacedForm(tokens), result: formatNumber(value) };
}
