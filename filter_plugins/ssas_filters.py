"""Ansible filter plugin exposing ssas-deploy's Jinja filters, so roles render the same bytes."""

from ssas_deploy.jinja_filters import FILTERS


class FilterModule:
    def filters(self):
        return dict(FILTERS)
