// Where each value of a JSON text lies in it. JSON.parse turns numbers into doubles, so a model
// request holding 0.3333333333333333333333333333333333 would be shown rounded; the journal's
// request and response are shown from the characters the server sent instead.

/**
 * The spans of a valid JSON text: a tree of {start, end, members} where members is a Map (object
 * keys) or an array (array items) of spans, and null for a scalar. text.slice(start, end) is the
 * value's own text.
 */
export function jsonSpans(text) {
  const reader = { text, i: 0 };
  const span = readValue(reader);
  skipSpace(reader);
  if (reader.i !== text.length) throw new SyntaxError(`unexpected text at ${reader.i}`);
  return span;
}

/** The text of the value at `path` (keys and indexes), or null where there is none. */
export function rawAt(text, spans, path) {
  let span = spans;
  for (const key of path) {
    if (!span || !span.members) return null;
    span = span.members instanceof Map ? span.members.get(key) : span.members[key];
  }
  return span ? text.slice(span.start, span.end) : null;
}

function skipSpace(reader) {
  while (reader.i < reader.text.length && ' \n\r\t'.includes(reader.text[reader.i])) reader.i++;
}

function readValue(reader) {
  skipSpace(reader);
  const start = reader.i;
  const c = reader.text[start];
  let members = null;
  if (c === '{') members = readObject(reader);
  else if (c === '[') members = readArray(reader);
  else if (c === '"') readString(reader);
  else readScalar(reader);
  return { start, end: reader.i, members };
}

function readObject(reader) {
  const members = new Map();
  reader.i++;
  skipSpace(reader);
  if (reader.text[reader.i] === '}') {
    reader.i++;
    return members;
  }
  for (;;) {
    skipSpace(reader);
    const keyStart = reader.i;
    readString(reader);
    const key = JSON.parse(reader.text.slice(keyStart, reader.i));
    skipSpace(reader);
    expect(reader, ':');
    members.set(key, readValue(reader));
    skipSpace(reader);
    if (reader.text[reader.i] === ',') {
      reader.i++;
      continue;
    }
    expect(reader, '}');
    return members;
  }
}

function readArray(reader) {
  const members = [];
  reader.i++;
  skipSpace(reader);
  if (reader.text[reader.i] === ']') {
    reader.i++;
    return members;
  }
  for (;;) {
    members.push(readValue(reader));
    skipSpace(reader);
    if (reader.text[reader.i] === ',') {
      reader.i++;
      continue;
    }
    expect(reader, ']');
    return members;
  }
}

function readString(reader) {
  expect(reader, '"');
  while (reader.i < reader.text.length) {
    const c = reader.text[reader.i++];
    if (c === '\\') reader.i++;
    else if (c === '"') return;
  }
  throw new SyntaxError('unterminated string');
}

function readScalar(reader) {
  const start = reader.i;
  while (reader.i < reader.text.length && !',}] \n\r\t'.includes(reader.text[reader.i])) reader.i++;
  if (reader.i === start) throw new SyntaxError(`a value was expected at ${start}`);
}

function expect(reader, c) {
  if (reader.text[reader.i] !== c) throw new SyntaxError(`"${c}" expected at ${reader.i}`);
  reader.i++;
}
