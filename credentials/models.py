"""Who we are on each side: one connection per NetSuite account and per JAGGAER tenant, and the pairs
that records flow between."""

from django.db import models


class NetSuiteConnection(models.Model):
    name = models.SlugField(max_length=100, unique=True, help_text="Also the slug of the webhook URL.")
    account_id = models.CharField(max_length=40, help_text="As NetSuite shows it, e.g. 1234567 or 1234567_SB1.")
    base_url = models.URLField(help_text="Derived from the account id unless it points at a sandbox server.")

    class Meta:
        verbose_name = "NetSuite connection"

    def __str__(self) -> str:
        return self.name


class JaggaerConnection(models.Model):
    name = models.SlugField(max_length=100, unique=True)
    base_url = models.URLField(help_text="Token endpoint and API share it, e.g. https://prep-reg02.api.jaggaer.com")

    class Meta:
        verbose_name = "JAGGAER connection"

    def __str__(self) -> str:
        return self.name


class ConnectionPair(models.Model):
    """Records flow from the NetSuite side to the JAGGAER side of a pair; mappings, cursors and sync
    records all belong to one pair."""

    netsuite = models.ForeignKey(NetSuiteConnection, on_delete=models.PROTECT, related_name="pairs")
    jaggaer = models.ForeignKey(JaggaerConnection, on_delete=models.PROTECT, related_name="pairs")

    class Meta:
        verbose_name = "connection pair"
        constraints = [
            models.UniqueConstraint(fields=["netsuite", "jaggaer"], name="connection_pair_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.netsuite.name} → {self.jaggaer.name}"
