// The intake form's "Not listed" school: the box for its name shows only when "Not listed" is
// chosen, like GOV.UK's conditional reveal (which works with radios, not a select). Without
// script the box is always shown, and the server reads it only when "Not listed" is chosen.
// A file, not inline script, so the Content-Security-Policy can forbid inline script.

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
