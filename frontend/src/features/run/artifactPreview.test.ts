import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchHead, parseCsvHead, prettyJson, previewKind } from './artifactPreview';
import { markdownBlocks } from '../../lib/markdownBlocks';

describe('preview kind', () => {
  it('chooses by extension, then by content type', () => {
    expect(previewKind('plots/roc.PNG')).toBe('image');
    expect(previewKind('metrics.json')).toBe('json');
    expect(previewKind('conf/params.yaml')).toBe('text');
    expect(previewKind('README.md')).toBe('markdown');
    expect(previewKind('data/head.csv')).toBe('csv');
    expect(previewKind('model/MLmodel')).toBe('text');
    expect(previewKind('blob', 'image/webp')).toBe('image');
    expect(previewKind('blob', 'text/plain; charset=utf-8')).toBe('text');
    expect(previewKind('model.pkl', 'application/octet-stream')).toBe('none');
  });
});

describe('CSV head', () => {
  it('parses quotes, doubled quotes, embedded newlines and CRLF', () => {
    const text = 'a,b,c\r\n1,"x, y",3\r\n2,"say ""hi""","two\nlines"\r\n';
    expect(parseCsvHead(text, 10, false)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', '3'],
      ['2', 'say "hi"', 'two\nlines'],
    ]);
  });
  it('drops a line cut off by the byte cap, keeps a complete last line', () => {
    expect(parseCsvHead('a,b\n1,2\n3,', 10, true)).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(parseCsvHead('a,b\n1,2', 10, false)).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });
  it('stops at the row limit', () => {
    const text = Array.from({ length: 100 }, (_, i) => `${i},x`).join('\n');
    expect(parseCsvHead(text, 5, false)).toHaveLength(5);
  });
});

describe('reading the head of a file', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('asks for a byte range and reports truncation from Content-Range', async () => {
    const fetchMock = vi.fn(async (_url: string, init?: RequestInit) => {
      expect((init?.headers as Record<string, string>)['Range']).toBe('bytes=0-9');
      return new Response('0123456789', { status: 206, headers: { 'Content-Range': 'bytes 0-9/5000' } });
    });
    vi.stubGlobal('fetch', fetchMock);
    const head = await fetchHead('/api/artifacts/r/big.txt', 10, null);
    expect(head).toEqual({ text: '0123456789', truncated: true });
  });

  it('stops reading when the server ignores Range and sends everything', async () => {
    vi.stubGlobal('fetch', async () => new Response('x'.repeat(100_000), { status: 200 }));
    const head = await fetchHead('/api/artifacts/r/big.txt', 1000, 100_000);
    expect(head.text.length).toBe(1000);
    expect(head.truncated).toBe(true);
  });

  it('reports a small file as complete, and HTTP errors as errors', async () => {
    vi.stubGlobal('fetch', async () => new Response('{"a":1}', { status: 200 }));
    expect(await fetchHead('/x', 1000, 7)).toEqual({ text: '{"a":1}', truncated: false });
    vi.stubGlobal('fetch', async () => new Response('no such artifact', { status: 404 }));
    await expect(fetchHead('/x', 1000, null)).rejects.toThrow('HTTP 404: no such artifact');
  });
});

describe('JSON and Markdown previews', () => {
  it('pretty-prints complete JSON only', () => {
    expect(prettyJson('{"a":[1,2]}', true)).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}');
    expect(prettyJson('{"a":[1,', false)).toBe('{"a":[1,');
    expect(prettyJson('not json', true)).toBe('not json');
  });
  it('reads Markdown into blocks and never into HTML', () => {
    const blocks = markdownBlocks('# Title\n\nSome <script>alert(1)</script> text\ncontinued\n\n- one\n- two\n\n```\ncode\n```\n> quoted');
    expect(blocks).toEqual([
      { kind: 'heading', level: 1, text: 'Title' },
      { kind: 'paragraph', text: 'Some <script>alert(1)</script> text continued' },
      { kind: 'list', ordered: false, items: ['one', 'two'] },
      { kind: 'code', text: 'code' },
      { kind: 'quote', text: 'quoted' },
    ]);
  });
});
