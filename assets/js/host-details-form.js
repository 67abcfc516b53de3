// The host page's "Stream details" form: the title, description and planned start of the
// current or next stream, saved with the host session while live, else with the host password
// (asked for in the form, kept in this page's memory only, like the recordings page does).
// The server checks the text; its message is shown as it is, and nothing changes on a refusal.

import { withHostDevice } from './api.js';
import { inputFromIso, isoFromInput } from './datetime-local.js';
import { fetchStreamDetails, saveStreamDetails } from './stream-details.js';

/** @param {HTMLFormElement} form @param {{ session: () => string | null }} host */
export function mountDetailsForm(form, host) {
  /** @type {(id: string) => any} */
  const $ = (id) => form.querySelector(`#${id}`);
  const ui = {
    off: $('detailsOff'),
    fields: $('detailsFields'),
    title: $('detailsTitle'),
    description: $('detailsDescription'),
    start: $('detailsStart'),
    passwordRow: $('detailsPasswordRow'),
    password: $('detailsPassword'),
    error: $('detailsError'),
    saved: $('detailsSaved'),
    save: $('saveDetails'),
  };
  let password = null; // the host password, in memory only, once it saved the details
  let edited = false; // the host typed something: a late load does not overwrite it

  function showError(message) {
    ui.error.textContent = message;
    ui.error.hidden = !message;
  }

  function render() {
    ui.passwordRow.hidden = Boolean(host.session() || password);
  }

  function fill(details) {
    ui.title.value = details ? details.title : '';
    ui.description.value = details ? details.description : '';
    ui.start.value = details ? inputFromIso(details.plannedStart) : '';
  }

  async function load() {
    try {
      const answer = await fetchStreamDetails();
      ui.off.hidden = answer.store;
      ui.fields.hidden = !answer.store;
      if (!edited) fill(answer.details);
      form.dataset.state = answer.store ? 'ready' : 'off';
    } catch (error) {
      form.dataset.state = 'ready';
      showError(`The stream details could not be loaded: ${error.message}`);
    }
  }

  function auth() {
    const session = host.session();
    if (session) return { session };
    const typed = ui.password.value;
    if (!password && !typed) return null;
    return withHostDevice({ password: password || typed });
  }

  async function save() {
    showError('');
    ui.saved.textContent = '';
    const title = ui.title.value.trim();
    if (!title) {
      showError('Give the stream a title.');
      ui.title.focus();
      return;
    }
    const credentials = auth();
    if (!credentials) {
      ui.passwordRow.hidden = false;
      showError('Enter the host password to save the details.');
      ui.password.focus();
      return;
    }
    const plannedStart = ui.start.value ? isoFromInput(ui.start.value) : null;
    ui.save.disabled = true;
    form.dataset.state = 'saving';
    try {
      const answer = await saveStreamDetails(
        { title, description: ui.description.value, plannedStart },
        credentials,
      );
      if ('password' in credentials) password = credentials.password;
      ui.password.value = '';
      edited = false;
      fill(answer.details);
      ui.saved.textContent = 'Saved.';
      form.dataset.state = 'saved';
    } catch (error) {
      if (error.status === 401 && 'password' in credentials) {
        password = null;
        ui.password.value = '';
      }
      showError(error.message || String(error));
      form.dataset.state = 'error';
    } finally {
      ui.save.disabled = false;
      render();
    }
  }

  form.addEventListener('input', () => {
    edited = true;
    ui.saved.textContent = '';
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    save();
  });
  form.dataset.state = 'loading';
  render();
  load();

  return {
    /** The host's session came or went: ask for the password only when there is none. */
    render,
  };
}
