// Loaded as a module file (not inline) so the Content-Security-Policy can forbid inline script.
import { initAll } from '../govuk/govuk-frontend.min.js'

initAll()
