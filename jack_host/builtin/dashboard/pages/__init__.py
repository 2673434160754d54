"""The dashboard's pages: each module here has a ``PAGES`` list (see ``jack_host.builtin.dashboard``)."""
