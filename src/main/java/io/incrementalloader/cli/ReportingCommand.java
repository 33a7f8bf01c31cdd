package io.incrementalloader.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every command shares: it reports through picocli's writers, which the command line sets (standard output and
 * error) and tests capture, with no swap of System.out.
 */
abstract class ReportingCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** The command's report. */
    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Notes beside the report (what was written where), kept off standard output when that carries data. */
    PrintWriter err() {
        return spec.commandLine().getErr();
    }
}
