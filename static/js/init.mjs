// Loaded as a module file (not inline) so the Content-Security-Policy can forbid inline script.
import { initAll } from '../govuk/govuk-frontend.min.js'

initAll()

// Drafts of the meeting record (record.mjs) are about children: they do not outlive signing out.
document.querySelector('form.maf-sign-out')?.addEventListener('submit', () => {
  window.sessionStorage.clear()
})
