package io.incrementalloader;

/**
 * A mistake the user can fix (a bad option, a missing file, an unreachable database): the command line prints its
 * message, without a stack trace, and exits 2. The message says what is wrong and what to do.
 */
public class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
    }
}
