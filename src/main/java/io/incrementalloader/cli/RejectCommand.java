package io.incrementalloader.cli;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.lifecycle.LifecycleCall;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "reject", description = "Reject a loaded document by hand (reject_document): its rows go, load_errors"
        + " keeps it with the reason, its duplicates are rejected with it.")
final class RejectCommand extends DatabaseCommand {
    @Parameters(index = "0", paramLabel = "REQUEST_ID", description = "The document (fake_json_request.id).")
    long requestId;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "REASON", description = "Why (kept with the document; required).")
    List<String> reason;

    @Override
    int run(ConnectionSettings settings) throws Exception {
        LifecycleCall.call(settings, "call public.reject_document(?, ?)", requestId, String.join(" ", reason))
                .forEach(out()::println);
        return 0;
    }
}
