package io.spillway.engine.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import java.io.Serial;

/**
 * The scope a render starts in, below Jinjava's own, which turns an unknown filter or test into an
 * error. Jinjava outputs nothing for them and reports nothing, where Jinja2 fails to compile the
 * template: a template that relies on a filter Jinjava lacks must fail, not render a wrong prompt.
 * Nested scopes ask their parents, so the lookup of every scope of the render ends here.
 */
final class StrictContext extends Context {

    @Serial
    private static final long serialVersionUID = 1L;

    /** A filter or test that neither Jinjava nor this package provides. */
    static final class UnknownName extends RuntimeException {
        @Serial
        private static final long serialVersionUID = 1L;

        UnknownName(String message) {
            super(message);
        }
    }

    /** Makes every interpreter of a Jinjava start in a {@link StrictContext}. */
    static final InterpreterFactory INTERPRETERS = new InterpreterFactory() {
        @Override
        public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
            return new JinjavaInterpreter(orig);
        }

        @Override
        public JinjavaInterpreter newInstance(Jinjava application, Context context, JinjavaConfig config) {
            return new JinjavaInterpreter(application, new StrictContext(context), config);
        }
    };

    private StrictContext(Context parent) {
        super(parent);
    }

    @Override
    public Filter getFilter(String name) {
        Filter filter = super.getFilter(name);
        if (filter == null) {
            throw new UnknownName("unknown filter '" + name + "'");
        }
        return filter;
    }

    @Override
    public ExpTest getExpTest(String name) {
        ExpTest test = super.getExpTest(name);
        if (test == null) {
            throw new UnknownName("unknown test '" + name + "'");
        }
        return test;
    }
}
