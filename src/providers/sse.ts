// A streaming parser of Server-Sent Events (the HTML living standard's event-stream format), enough
// for OpenAI-compatible chat streams: `data:` lines joined per event, comments (`: keep-alive`, which
// OpenRouter sends) and other fields ignored. Pure: text chunks in, complete `data` payloads out.
export class SseParser {
  #buffer = '';
  #data: string[] = [];

  /** Feeds a chunk (any split, \n or \r\n); returns the data of the events it completed. */
  push(chunk: string): string[] {
    this.#buffer += chunk;
    const events: string[] = [];
    let newline = this.#buffer.search(/\r\n|\r|\n/);
    while (newline >= 0) {
      const line = this.#buffer.slice(0, newline);
      const width = this.#buffer.startsWith('\r\n', newline) ? 2 : 1;
      // A lone \r at the end of a chunk may be the first half of \r\n: wait for more.
      if (width === 1 && this.#buffer[newline] === '\r' && newline + 1 === this.#buffer.length) break;
      this.#buffer = this.#buffer.slice(newline + width);
      this.#line(line, events);
      newline = this.#buffer.search(/\r\n|\r|\n/);
    }
    return events;
  }

  /** Ends the stream: a last event without its blank line still counts. */
  end(): string[] {
    const events: string[] = [];
    if (this.#buffer.length > 0) this.#line(this.#buffer, events);
    this.#buffer = '';
    this.#line('', events);
    return events;
  }

  #line(line: string, events: string[]): void {
    if (line === '') {
      if (this.#data.length > 0) events.push(this.#data.join('\n'));
      this.#data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
  }
}
