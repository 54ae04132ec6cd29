/** One entry of the main navigation. */
export interface NavItem {
  /** Route path. */
  to: string
  /** i18n key of the label (core.json, nav.*). */
  label: string
  /** Shown only to operators. */
  admin?: boolean
}

/** The main navigation, in order. Pages of every area are listed here. */
export const navItems: NavItem[] = [
  { to: '/', label: 'nav.studio' },
  { to: '/history', label: 'nav.history' },
  { to: '/usage', label: 'nav.usage' },
  { to: '/api-keys', label: 'nav.apiKeys' },
  { to: '/pronunciation', label: 'nav.pronunciation' },
  { to: '/admin', label: 'nav.admin', admin: true },
]

/** The entries a principal sees: admin entries only for ADMIN. */
export function visibleNav(isAdmin: boolean): NavItem[] {
  return navItems.filter((i) => !i.admin || isAdmin)
}
