package io.spillway.spill;

import java.util.regex.Pattern;

/** Session ids become file names, so only a safe alphabet is accepted: no separators, nothing to escape the folder. */
final class SessionIds {
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9._:-]{1,200}");

    private SessionIds() {
    }

    static String require(String sessionId) {
        if (sessionId == null || !VALID.matcher(sessionId).matches()) {
            throw new InvalidSessionIdException(sessionId);
        }
        return sessionId;
    }
}
