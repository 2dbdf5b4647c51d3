// The intake form's school or setting:
// - The box for a school's name shows only when "Not listed" is chosen, like GOV.UK's
//   conditional reveal (which works with radios, not a select). Without script the box is
//   always shown, and the server reads it only when "Not listed" is chosen.
// - A long list of schools becomes GOV.UK's accessible autocomplete, so a coordinator types
//   part of the name; without script, or for a short list, it stays a select.
// A file, not inline script, so the Content-Security-Policy can forbid inline script.

// A district's schools rarely fit on a screen beyond this many; a shorter list reads well
// as a plain select.
const LONG_LIST = 15

for (const reveal of document.querySelectorAll('[data-maf-reveal-select]')) {
  const select = document.getElementById(reveal.dataset.mafRevealSelect)
  if (!select) continue
  // A box with an error stays in sight whatever is chosen, so the message is never hidden.
  const hasError = reveal.querySelector('.govuk-error-message') !== null
  const update = () => {
    reveal.hidden = !hasError && select.value !== reveal.dataset.mafRevealValue
  }
  select.addEventListener('change', update)
  update()
}

const autocomplete = window.accessibleAutocomplete
for (const select of document.querySelectorAll('select[data-maf-autocomplete]')) {
  if (!autocomplete || select.options.length < LONG_LIST) continue
  const id = select.id
  const choose = (value) => {
    select.value = value
    select.dispatchEvent(new Event('change')) // the reveal above listens
  }
  autocomplete.enhanceSelectElement({
    selectElement: select,
    showAllValues: true,
    confirmOnBlur: true,
    onConfirm: (label) => {
      const option = [...select.options].find((each) => each.text === label)
      if (option) choose(option.value)
    }
  })
  const input = document.getElementById(id)
  // The library gives its box name="" so that only the select is sent, but HTML does not
  // allow an empty name (Nu HTML checker; alphagov/accessible-autocomplete#422 and #790).
  input.removeAttribute('name')
  // Emptying the box means "Not known", which the select does not learn by itself.
  input.addEventListener('input', () => {
    if (!input.value.trim()) choose(select.dataset.mafAutocompleteEmpty)
  })
}
