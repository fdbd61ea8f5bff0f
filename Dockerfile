# One app process with CPU-only torch. For a classroom, run several behind a proxy with sticky
# sessions and mount one shared volume at /srv/course (see README, "A classroom").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    COURSE_DATA_DIR=/srv/course/data COURSE_RUNS_DIR=/srv/course/workspaces

WORKDIR /app
COPY pyproject.toml README.md ./
COPY course ./course
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu \
        "torch==2.14.1+cpu" "torchvision==0.29.1+cpu" \
 && pip install --no-cache-dir .
COPY app.py ./
COPY pages ./pages
COPY notebooks ./notebooks
COPY .streamlit ./.streamlit

RUN useradd --create-home course && mkdir -p /srv/course && chown course /srv/course
USER course
VOLUME /srv/course
EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health')"
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true"]
