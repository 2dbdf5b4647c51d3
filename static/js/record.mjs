// The meeting record, typed in the room: nothing typed may be lost by moving to another item.
// - What is typed is kept as a draft in sessionStorage (this tab only, gone when it closes:
//   the record is about children, so it is not left on a shared laptop) and put back on return.
// - Leaving with unsaved changes asks first (beforeunload), unless the form is being sent.
// - Agency pickers become GOV.UK's accessible autocomplete; without script they stay selects.
// A file, not inline script, so the Content-Security-Policy can forbid inline script.

const form = document.querySelector('form[data-maf-draft]')

function fieldValues () {
  const values = {}
  for (const [name, value] of new FormData(form)) {
    if (name === 'csrf_token') continue
    ;(values[name] = values[name] || []).push(value)
  }
  return values
}

function restore (values) {
  for (const element of form.elements) {
    if (!element.name || element.name === 'csrf_token' || element.type === 'submit') continue
    const wanted = values[element.name] || []
    if (element.type === 'radio' || element.type === 'checkbox') {
      element.checked = wanted.includes(element.value)
    } else if (element.tagName !== 'BUTTON') {
      // A date's day, month and year boxes share one name: they are taken in order.
      element.value = wanted.length ? wanted.shift() : ''
    }
  }
}

// A draft can hold more services or actions than the page shows (rows added with "Add
// another", then left unsaved): rows are added, copies of the last, until it fits.
const LISTS = [['services', 'Service'], ['actions', 'Action']]

function makeRoomFor (values) {
  for (const [list, noun] of LISTS) {
    const numbers = Object.keys(values)
      .map((name) => name.match(new RegExp(`^${list}-(\\d+)-`)))
      .filter(Boolean)
      .map((match) => Number(match[1]))
    const wanted = Math.max(-1, ...numbers) + 1
    const rowId = noun.toLowerCase() + '-'
    let rows = form.querySelectorAll(`fieldset[id^="${rowId}"]`)
    while (rows.length && rows.length < wanted) {
      const last = rows[rows.length - 1]
      const index = rows.length - 1 // names count from 0, people from 1
      const copy = last.cloneNode(true)
      copy.id = rowId + (index + 2)
      copy.innerHTML = copy.innerHTML
        .replaceAll(`${list}-${index}-`, `${list}-${index + 1}-`)
        .replaceAll(`${noun} ${index + 1}`, `${noun} ${index + 2}`)
        .replaceAll(`${noun.toLowerCase()} ${index + 1}`, `${noun.toLowerCase()} ${index + 2}`)
      for (const message of copy.querySelectorAll('.govuk-error-message')) message.remove()
      last.after(copy)
      rows = form.querySelectorAll(`fieldset[id^="${rowId}"]`)
    }
  }
}

function sameValues (a, b) {
  return JSON.stringify(a) === JSON.stringify(b)
}

if (form) {
  const key = 'maf-draft:' + form.dataset.mafDraft
  const shown = fieldValues()
  // A page showing what was typed but not saved (an error, someone else's save, "add
  // another") is unsaved from the start.
  let changed = form.hasAttribute('data-maf-unsaved')
  let sending = false

  const stored = window.sessionStorage.getItem(key)
  if (stored && !changed) {
    const draft = JSON.parse(stored)
    if (sameValues(draft, shown)) {
      window.sessionStorage.removeItem(key)
    } else {
      // The draft carries the version its page was opened at, so if someone has saved
      // since, saving it shows their changes instead of overwriting them.
      makeRoomFor(draft)
      restore(draft)
      changed = true
      const notice = form.querySelector('[data-maf-draft-notice]')
      notice.hidden = false
      notice.querySelector('[data-maf-draft-discard]').addEventListener('click', () => {
        window.sessionStorage.removeItem(key)
        changed = false
        window.location.reload()
      })
    }
  }

  const keep = () => {
    const values = fieldValues()
    if (sameValues(values, shown) && !form.hasAttribute('data-maf-unsaved')) {
      changed = false // typed, then put back as it was
      window.sessionStorage.removeItem(key)
      return
    }
    changed = true
    window.sessionStorage.setItem(key, JSON.stringify(values))
  }
  for (const type of ['input', 'change', 'focusout']) form.addEventListener(type, keep)

  // Enter in a box saves, as on any form. Without script it presses the first button in the
  // form, "Add another service", which is harmless (the form comes back as typed, one row
  // more) but not what anyone means. The autocomplete's own Enter (choosing an agency) is
  // left alone.
  const save = form.querySelector('button[name="save"]')
  form.addEventListener('keydown', (event) => {
    const box = event.target
    if (event.key !== 'Enter' || event.defaultPrevented || event.isComposing || !save) return
    if (box.tagName !== 'INPUT' || ['submit', 'button'].includes(box.type)) return
    event.preventDefault()
    form.requestSubmit(save)
  })

  form.addEventListener('submit', () => {
    sending = true
    // The page that answers shows what was sent, saved or not.
    window.sessionStorage.removeItem(key)
  })
  window.addEventListener('beforeunload', (event) => {
    if (changed && !sending) {
      event.preventDefault()
      event.returnValue = '' // older Chromium asks only when this is set
    }
  })
}

const autocomplete = window.accessibleAutocomplete
if (autocomplete) {
  for (const select of document.querySelectorAll('select[data-maf-autocomplete]')) {
    const focused = select.hasAttribute('autofocus')
    const id = select.id
    autocomplete.enhanceSelectElement({
      selectElement: select,
      defaultValue: '',
      showAllValues: true,
      // Each picker offers the same agencies; pick by name as typed.
      autoselect: true,
      confirmOnBlur: true
    })
    const input = document.getElementById(id)
    // The library gives its box name="" so that only the select is sent, but HTML does not
    // allow an empty name (Nu HTML checker; alphagov/accessible-autocomplete#422 and #790).
    // A box without a name is not sent either.
    input.removeAttribute('name')
    // Emptying the box means "no agency", which the select does not learn by itself.
    input.addEventListener('input', () => {
      if (!input.value.trim()) select.value = ''
    })
    if (focused) input.focus()
  }
}
