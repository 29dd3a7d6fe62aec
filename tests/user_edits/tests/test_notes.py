"""The notes API: stored through the migration, private to their owner."""

from httpx import AsyncClient

from tests.factories import UserFactory


async def test_a_note_is_stored_and_listed_for_its_owner(
    client: AsyncClient, users: UserFactory
) -> None:
    owner = await users.account()
    created = await client.post(
        "/api/v1/notes", headers=owner.headers, json={"title": "First", "body": "Hello"}
    )
    assert created.status_code == 201, created.text

    listed = await client.get("/api/v1/notes", headers=owner.headers)
    assert [note["title"] for note in listed.json()] == ["First"]
    read = await client.get(f"/api/v1/notes/{created.json()['id']}", headers=owner.headers)
    assert read.json()["body"] == "Hello"


async def test_another_users_note_is_not_found(client: AsyncClient, users: UserFactory) -> None:
    owner, other = await users.account(), await users.account()
    created = await client.post("/api/v1/notes", headers=owner.headers, json={"title": "Mine"})

    response = await client.get(f"/api/v1/notes/{created.json()['id']}", headers=other.headers)
    assert response.status_code == 404
    assert (await client.get("/api/v1/notes", headers=other.headers)).json() == []


async def test_a_note_without_a_title_is_refused(client: AsyncClient, users: UserFactory) -> None:
    owner = await users.account()
    response = await client.post("/api/v1/notes", headers=owner.headers, json={"body": "x"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
