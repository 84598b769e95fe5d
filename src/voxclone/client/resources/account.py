"""``client.account``: balance, usage and limits of the key's account."""

from __future__ import annotations

from voxclone.client._resource import AsyncAPIResource, SyncAPIResource, json_data
from voxclone.client.types import Account


class AccountResource(SyncAPIResource):
    def retrieve(self) -> Account:
        """Your account: credit ``balance`` (exact ``Decimal``), usage and limits."""
        return Account.from_dict(json_data(self._client._request("GET", "/api/v1/account")))


class AsyncAccountResource(AsyncAPIResource):
    async def retrieve(self) -> Account:
        """Your account: credit ``balance`` (exact ``Decimal``), usage and limits."""
        return Account.from_dict(json_data(await self._client._request("GET", "/api/v1/account")))
