FROM node:20-bookworm-slim
WORKDIR /app
ENV CHECKPOINT_DISABLE=1
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY prisma.config.ts ./
RUN npm ci
COPY . .
ENV HTTP_HOST=0.0.0.0 MQTT_HOST=0.0.0.0
EXPOSE 3000 1883
CMD ["npx", "tsx", "main.ts"]
