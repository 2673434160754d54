"""The staff dashboard: server-rendered pages at ``/`` for front-desk staff, managers and admins.

Jinja2 templates (``templates/``), one small stylesheet and script (``static/``, served at
``/static/dashboard/``), no build step and nothing from the internet.

Adding a page (another module, without editing this package's files):

1. Create ``jack_host/builtin/dashboard/pages/<name>.py`` with a module-level ``PAGES`` list of
   :class:`~jack_host.builtin.dashboard.registry.Page`: the route, a factory ``app -> resource``
   (a Falcon resource with ``on_get``/``on_post``...), and optionally a
   :class:`~jack_host.builtin.dashboard.registry.MenuEntry` (path, label, minimum role, order).
   Every module in ``pages/`` is collected at start-up (:func:`registry.collect_pages`).
2. Protect the resource with ``@falcon.before(page_guard("manager"))``
   (:mod:`jack_host.builtin.dashboard.guard`): it signs the browser in from its cookies
   (renewing the access token from the refresh cookie), redirects to ``/login?next=<page>``
   when nobody is signed in, answers 403 when the role is too low, checks the CSRF token on
   every state-changing method (form field ``csrf_token`` or header ``X-CSRF-Token``), and puts
   the account on ``req.context.staff``.  ``await form_data(req)`` gives the posted form.
3. Answer with ``render(self.app, req, resp, "my_page.html", **context)``
   (:mod:`jack_host.builtin.dashboard.rendering`); templates extend ``base.html`` and fill the
   ``content`` block.  ``flash(req, resp, "Saved")`` shows a message on the next page;
   ``see_other(path)`` redirects after a POST.

Roles: ``staff`` < ``manager`` < ``admin``.  Menu entries for pages a user's role cannot open
are hidden, and the guard refuses them.  Menu entries in ``registry.RESERVED_MENU`` (Engine >
Apps, Costs, System) show before their page module exists.

Sign-in keeps the staff JWT in HttpOnly, SameSite=Strict cookies
(:mod:`jack_host.builtin.staff.session_cookies`); the pages' JavaScript may call the staff
JSON API (``/api/v1``) with ``fetch`` and the header ``X-CSRF-Token`` (from
``<meta name="csrf-token">``), and ``/ws/staff`` with the same cookie.
"""
