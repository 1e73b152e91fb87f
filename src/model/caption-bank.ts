/**
 * The caption bank: sentences shipped with the starter model (public/starter/caption-bank.txt), one a
 * line, ranked for the user's own photos like the classes of a zero-shot classifier. Lines starting
 * with '#' are comments; blank lines are skipped; a sentence repeated verbatim is kept once.
 */

export const CAPTION_BANK_FILE = 'caption-bank.txt';

export interface CaptionBank {
  sentences: string[];
  /** Sentences repeated verbatim (kept once). */
  repeated: number;
}

/** True for text that is an HTML page (a server answering a missing file with its index page). */
export function looksLikeHtml(text: string): boolean {
  return /^\s*<(!doctype html|html|head|body)\b/i.test(text.slice(0, 200));
}

/** Parses a caption bank; throws naming `file` when it holds no sentence or is a web page. */
export function parseCaptionBank(text: string, file = CAPTION_BANK_FILE): CaptionBank {
  if (looksLikeHtml(text))
    throw new Error(`${file}: the server sent a web page instead of the caption bank (is the file missing?)`);
  if (text.includes('\u0000')) throw new Error(`${file}: binary data, not a text file of sentences`);
  const seen = new Set<string>();
  let repeated = 0;
  for (const line of text.split(/\r?\n/)) {
    const s = line.trim();
    if (!s || s.startsWith('#')) continue;
    if (seen.has(s)) repeated++;
    else seen.add(s);
  }
  if (!seen.size) throw new Error(`${file}: no sentences (one caption a line, '#' starts a comment)`);
  return { sentences: [...seen], repeated };
}

/** A caption as shown: the tokenised " ." and " ," of Flickr-style text joined to the word before. */
export function tidyCaption(text: string): string {
  return text.replace(/\s+([.,!?;:])/g, '$1').trim();
}
