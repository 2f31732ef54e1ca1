package io.spillway.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.gateway.api.ApiException;
import org.junit.jupiter.api.Test;

class SessionOwnersTest {

  private static final ApiKey ALICE = new ApiKey("aaaaaaaaaaaaaaaa", "alice");
  private static final ApiKey BOB = new ApiKey("bbbbbbbbbbbbbbbb", "bob");

  private static SessionOwners owners(int capacity) {
    return new SessionOwners(ApiKeysTest.properties("spillway.gateway.max-sessions", Integer.toString(capacity)));
  }

  private static void assertNotFound(Runnable call) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status().value()).isEqualTo(404));
  }

  @Test
  void headerThenUserThenAFreshSession() {
    SessionOwners owners = owners(10);

    assertThat(owners.resolve("from-header", "from-user", ALICE)).isEqualTo("from-header");
    assertThat(owners.resolve(null, "from-user", ALICE)).isEqualTo("from-user");
    assertThat(owners.resolve("", null, ALICE)).isNotBlank().isNotEqualTo(owners.resolve(null, null, ALICE));
  }

  @Test
  void aSessionBelongsToTheFirstKeyThatUsedIt() {
    SessionOwners owners = owners(10);
    owners.resolve("s1", null, ALICE);

    assertNotFound(() -> owners.resolve("s1", null, BOB));
    assertNotFound(() -> owners.resolve(null, "s1", BOB));
    assertThat(owners.resolve("s1", null, ALICE)).isEqualTo("s1");
  }

  @Test
  void theLeastRecentlyUsedSessionsAreForgottenFirst() {
    SessionOwners owners = owners(2);
    owners.resolve("s1", null, ALICE);
    owners.resolve("s2", null, ALICE);
    owners.resolve("s1", null, ALICE); // s2 is now the least recently used
    owners.resolve("s3", null, ALICE);

    assertNotFound(() -> owners.resolve("s1", null, BOB));
    assertThat(owners.resolve("s2", null, BOB)).isEqualTo("s2");
  }

  @Test
  void unusableSessionIdsAre400() {
    SessionOwners owners = owners(10);

    for (String id : new String[] {"x".repeat(257), "line\nbreak"}) {
      assertThatThrownBy(() -> owners.resolve(id, null, ALICE))
          .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.param()).isEqualTo("X-Session-Id"));
    }
  }
}
