/**
 * The app shell: the GraphQL client, the router and the page frame. Each route is one feature;
 * the run page (with uPlot) is loaded on demand so the runs table paints sooner.
 */
import { lazy, Suspense, useMemo, type ReactNode } from 'react';
import { BrowserRouter, Link, Navigate, NavLink, Route, Routes, useLocation } from 'react-router';
import { Provider } from 'urql';
import { createMltrailClient } from '../graphql/client';
import { Loading } from '../components/ui/QueryStates';
import { ActingUserBox } from './ActingUserBox';
import { ErrorBoundary } from './ErrorBoundary';
import { ExperimentsPage } from '../features/experiments/ExperimentsPage';
import { RunsPage } from '../features/runs/RunsPage';

const RunPage = lazy(() => import('../features/run/RunPage'));
const ComparePage = lazy(() => import('../features/compare/ComparePage'));
const ModelsPage = lazy(() => import('../features/registry/ModelsPage'));
const ModelPage = lazy(() => import('../features/registry/ModelPage'));
const VersionPage = lazy(() => import('../features/registry/VersionPage'));
const VersionComparePage = lazy(() => import('../features/registry/VersionComparePage'));

export function App() {
  const client = useMemo(() => createMltrailClient(), []);
  return (
    <Provider value={client}>
      <BrowserRouter>
        <header className="app-header">
          <Link to="/" className="brand">
            mltrail
          </Link>
          <nav>
            <NavLink to="/experiments">Experiments</NavLink>
            <NavLink to="/models">Models</NavLink>
          </nav>
          <ActingUserBox />
        </header>
        <main className="app-main">
          <RouteErrorBoundary>
            <Suspense fallback={<Loading />}>
              <Routes>
                <Route path="/" element={<Navigate to="/experiments" replace />} />
                <Route path="/experiments" element={<ExperimentsPage />} />
                <Route path="/runs" element={<RunsPage />} />
                <Route path="/runs/:runId" element={<RunPage />} />
                <Route path="/compare" element={<ComparePage />} />
                <Route path="/models" element={<ModelsPage />} />
                <Route path="/models/:name" element={<ModelPage />} />
                <Route path="/models/:name/versions/:version" element={<VersionPage />} />
                <Route path="/models/:name/compare" element={<VersionComparePage />} />
                <Route path="*" element={<NotFound />} />
              </Routes>
            </Suspense>
          </RouteErrorBoundary>
        </main>
      </BrowserRouter>
    </Provider>
  );
}

/** A crash in one page is forgotten when the user navigates elsewhere. */
function RouteErrorBoundary({ children }: { children: ReactNode }) {
  const { pathname } = useLocation();
  return <ErrorBoundary key={pathname}>{children}</ErrorBoundary>;
}

function NotFound() {
  return (
    <div className="state state-empty">
      <h2>Page not found</h2>
      <p>
        <Link to="/experiments">Go to the experiments</Link>
      </p>
    </div>
  );
}
