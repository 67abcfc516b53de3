// Sharing the stream: the audience page's address, and a snippet that embeds the player alone
// (embed.html) in another site's page, each copied with one click. Where the browser does not
// let the page write to the clipboard, the text is shown selected in a read-only field instead.

/** The audience page's absolute address. @param {Location} [where] */
export function audienceUrl(where = window.location) {
  return `${where.origin}/`;
}

/** The <iframe> that embeds the player. @param {Location} [where] */
export function embedSnippet(where = window.location) {
  return (
    `<iframe src="${where.origin}/embed.html" title="Live stream" width="640" height="360" ` +
    'style="border:0" allow="autoplay; fullscreen" allowfullscreen></iframe>'
  );
}

/** Copies `text`; false when the browser refused (no clipboard, no permission). @param {string} text */
export async function copyText(text) {
  try {
    if (!navigator.clipboard || !window.isSecureContext) return false;
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Wires the Share and embed buttons.
 * @param {{ share: HTMLButtonElement, embed: HTMLButtonElement, status: HTMLElement,
 *   fallback: HTMLElement, label: HTMLElement, text: HTMLInputElement }} ui
 */
export function mountShare(ui) {
  async function offer(text, copiedMessage, fallbackLabel) {
    ui.status.textContent = '';
    if (await copyText(text)) {
      ui.fallback.hidden = true;
      ui.status.textContent = copiedMessage;
      ui.status.dataset.copied = text;
      return;
    }
    delete ui.status.dataset.copied;
    ui.label.textContent = fallbackLabel;
    ui.text.value = text;
    ui.fallback.hidden = false;
    ui.text.focus();
    ui.text.select();
  }

  ui.share.addEventListener('click', () =>
    offer(audienceUrl(), 'Link copied.', 'Copy this link to the audience page (Ctrl+C or ⌘C):'),
  );
  ui.embed.addEventListener('click', () =>
    offer(embedSnippet(), 'Embed code copied.', 'Copy this code into your site (Ctrl+C or ⌘C):'),
  );
  ui.text.addEventListener('focus', () => ui.text.select());
}
